//! PyTorch's `print(net)` format.

/// Formats a container the way PyTorch prints a module with children:
///
/// ```text
/// Name(
///   (child): ChildRepr
///   (other): Nested(
///     (0): ReLU()
///   )
/// )
/// ```
///
/// A container without children prints as `Name()`.
///
/// ```
/// let text = d2l_blocks::tree("Sequential", [("0", "ReLU()".to_string())]);
/// assert_eq!(text, "Sequential(\n  (0): ReLU()\n)");
/// ```
pub fn tree<N: AsRef<str>>(name: &str, children: impl IntoIterator<Item = (N, String)>) -> String {
    let mut out = format!("{name}(");
    let mut any = false;
    for (child, repr) in children {
        any = true;
        let repr = repr.replace('\n', "\n  ");
        out.push_str(&format!("\n  ({}): {repr}", child.as_ref()));
    }
    if any {
        out.push('\n');
    }
    out.push(')');
    out
}
