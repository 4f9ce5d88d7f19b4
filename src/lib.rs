//! cairn: comments for static sites. Comment files live in the site's git repository,
//! `cairn render` injects them into the built HTML, and page views need no backend.
//!
//! Data flows one way through the modules: [`config`] says where things are,
//! [`comment`] reads and writes one file, [`store`] loads the tree, [`render`] turns a
//! thread into HTML, and [`site`] puts it into the built pages. [`inbox`] and
//! [`deliver`] take new comments in; [`import`], [`export`] and [`forget`] move
//! comments in, out and away, and [`relocate`] after pages whose URLs changed; [`init`]
//! and [`github`] fit cairn into a site's repository and CI; [`reload`] lets the pages
//! of a site served while it is written (and by [`demo`]) reload themselves. [`cmd`]
//! holds the command-line commands that drive them.

pub mod cmd;
pub mod comment;
pub mod config;
pub mod deliver;
pub mod demo;
pub mod export;
pub mod forget;
pub mod former;
pub mod github;
pub mod import;
pub mod inbox;
pub mod init;
pub mod reload;
pub mod relocate;
pub mod render;
pub mod secret;
pub mod site;
pub mod store;
#[cfg(test)]
mod testing;
pub mod thread;
pub mod walk;
pub mod yaml;
