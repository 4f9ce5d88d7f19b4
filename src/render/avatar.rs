//! Identicons: a deterministic 5×5 symmetric pattern as inline SVG, drawn from the
//! avatar key (or the name, for comments without one). Nothing is fetched: no
//! third-party request ever leaves the page.

use sha2::{Digest, Sha256};

/// The SVG for an avatar key. Same key, same picture, always.
pub fn identicon(key: &str) -> String {
    let hash = Sha256::digest(key.as_bytes());
    let hue = u16::from_be_bytes([hash[0], hash[1]]) % 360;
    let saturation = 45 + hash[2] % 25;
    let lightness = 38 + hash[3] % 20;
    // Written a piece at a time: formatting machinery would cost more than the hash.
    let mut svg = String::with_capacity(320);
    svg.push_str(
        "<svg class=\"cairn-avatar\" viewBox=\"0 0 5 5\" width=\"40\" height=\"40\" aria-hidden=\"true\">\
<rect class=\"cairn-avatar-bg\" width=\"5\" height=\"5\"/><path stroke=\"hsl(",
    );
    push_number(&mut svg, hue);
    svg.push(' ');
    push_number(&mut svg, saturation.into());
    svg.push_str("% ");
    push_number(&mut svg, lightness.into());
    svg.push_str("%)\" d=\"");
    for row in 0..5u8 {
        // Columns 0-2 come from the hash; 3 and 4 mirror 1 and 0.
        let on = |col: u8| hash[4 + usize::from(row * 3 + col.min(4 - col))] & 1 == 1;
        // Each run of filled squares is one line, a unit wide, through the row's middle.
        let mut col = 0;
        while col < 5 {
            if !on(col) {
                col += 1;
                continue;
            }
            let start = col;
            while col < 5 && on(col) {
                col += 1;
            }
            svg.extend([
                'M',
                digit(start),
                ' ',
                digit(row),
                '.',
                '5',
                'h',
                digit(col - start),
            ]);
        }
    }
    svg.push_str("\"/></svg>");
    svg
}

/// The decimal digit for `n` (below ten).
fn digit(n: u8) -> char {
    char::from(b'0' + n)
}

/// `n` in decimal.
fn push_number(out: &mut String, n: u16) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(digit((n % 10) as u8));
}

/// The unit squares an identicon fills, as (column, row), read back from its SVG.
#[cfg(test)]
fn squares(svg: &str) -> Vec<(u8, u8)> {
    let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut squares = Vec::new();
    for line in d.split('M').filter(|s| !s.is_empty()) {
        let (at, width) = line.split_once('h').unwrap();
        let (x, y) = at.split_once(' ').unwrap();
        let (x, y, width): (u8, f32, u8) = (
            x.parse().unwrap(),
            y.parse().unwrap(),
            width.parse().unwrap(),
        );
        squares.extend((x..x + width).map(|col| (col, y as u8)));
    }
    squares
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
    fn colours_are_written_in_decimal() {
        for n in [0, 7, 10, 45, 100, 359] {
            let mut out = String::new();
            push_number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn pattern_is_mirrored_and_drawn_from_the_hash() {
        for key in ["mirror", "9f2c4e1a77b0c3d2", "a", "name:Ann"] {
            let drawn = squares(&identicon(key));
            for &(col, row) in &drawn {
                assert!(
                    drawn.contains(&(4 - col, row)),
                    "{key}: ({col}, {row}) has no mirror"
                );
            }
            let hash = Sha256::digest(key.as_bytes());
            for row in 0..5u8 {
                for col in 0..3u8 {
                    let on = hash[4 + usize::from(row * 3 + col)] & 1 == 1;
                    assert_eq!(drawn.contains(&(col, row)), on, "{key}: ({col}, {row})");
                }
            }
        }
    }
}
