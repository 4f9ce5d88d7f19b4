//! Fills an inbox spool with N accepted comments, as if the inbox had taken them while
//! its remote was away, for the delivery benchmark.
//!
//! usage: spool SPOOL_DIR N

use cairn::comment::Comment;
use cairn::inbox::spool::Spool;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(args.len() == 3, "usage: spool SPOOL_DIR N");
    let n: usize = args[2].parse()?;
    let spool = Spool::open(std::path::Path::new(&args[1]))?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        for i in 0..n {
            let now = chrono::Utc::now();
            let comment = Comment {
                id: ulid::Ulid::new(),
                thread: format!("/posts/p{}/", i % 50),
                parent: None,
                date: chrono::SubsecRound::trunc_subsecs(now, 0),
                author: Some(format!("Reader {i}")),
                website: None,
                avatar: None,
                origin: None,
                body: format!("Spooled comment {i}, waiting for its delivery."),
            };
            spool.accept(&comment).await?;
        }
        anyhow::Ok(())
    })?;
    // Every item in its own file, the journal empty: a spool as a stopped inbox leaves it.
    spool.flush();
    Ok(())
}
