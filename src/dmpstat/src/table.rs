//! Plain text tables with stable columns.

/// Formats a table: the first `left` columns left-aligned, the others
/// right-aligned, columns separated by two spaces, no trailing spaces.
pub fn render(header: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = w.saturating_sub(cell.chars().count());
            if i < left {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            } else {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let rows = vec![
            vec!["dmp1".to_string(), "5".to_string()],
            vec!["x".to_string(), "12345".to_string()],
        ];
        assert_eq!(
            render(&["NAME", "READS"], &rows, 1),
            "NAME  READS\ndmp1      5\nx     12345\n"
        );
    }

    #[test]
    fn no_trailing_spaces_for_short_last_left_column() {
        let rows = vec![vec!["a".to_string()]];
        assert_eq!(render(&["LONGER"], &rows, 1), "LONGER\na\n");
    }
}
