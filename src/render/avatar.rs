//! Identicons: a deterministic 5×5 symmetric pattern as inline SVG, drawn from the
//! avatar key (or the name, for comments without one). Nothing is fetched: no
//! third-party request ever leaves the page.

use std::fmt::Write;

use sha2::{Digest, Sha256};

/// The SVG for an avatar key. Same key, same picture, always.
pub fn identicon(key: &str) -> String {
    let hash = Sha256::digest(key.as_bytes());
    let hue = u16::from_be_bytes([hash[0], hash[1]]) % 360;
    let saturation = 45 + hash[2] % 25;
    let lightness = 38 + hash[3] % 20;
    let mut svg = String::with_capacity(512);
    let _ = write!(
        svg,
        "<svg class=\"cairn-avatar\" viewBox=\"0 0 5 5\" width=\"40\" height=\"40\" aria-hidden=\"true\" focusable=\"false\">\
<rect class=\"cairn-avatar-bg\" width=\"5\" height=\"5\"/>\
<path fill=\"hsl({hue} {saturation}% {lightness}%)\" d=\""
    );
    for row in 0..5u8 {
        for col in 0..3u8 {
            if hash[4 + usize::from(row * 3 + col)] & 1 == 0 {
                continue;
            }
            for x in [col, 4 - col] {
                // One unit square at (x, row): `M{x} {row}h1v1h-1z`.
                svg.extend(['M', char::from(b'0' + x), ' ', char::from(b'0' + row)]);
                svg.push_str("h1v1h-1z");
                if x == 2 {
                    break;
                }
            }
        }
    }
    svg.push_str("\"/></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        assert_eq!(identicon("9f2c4e1a77b0c3d2"), identicon("9f2c4e1a77b0c3d2"));
        assert_ne!(identicon("9f2c4e1a77b0c3d2"), identicon("9f2c4e1a77b0c3d3"));
        insta::assert_snapshot!(identicon("9f2c4e1a77b0c3d2"));
    }

    #[test]
    fn pattern_is_mirrored() {
        let svg = identicon("mirror");
        let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        for cell in d.split('z').filter(|s| !s.is_empty()) {
            let nums: Vec<u8> = cell
                .trim_start_matches('M')
                .split(['h', ' '])
                .take(2)
                .map(|n| n.parse().unwrap())
                .collect();
            let mirrored = format!("M{} {}h1v1h-1", 4 - nums[0], nums[1]);
            assert!(d.contains(&mirrored), "{cell} has no mirror in {d}");
        }
    }
}
