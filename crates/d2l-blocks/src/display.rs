//! PyTorch's `print(net)` and tensor formats.

use burn::tensor::TensorData;

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

/// Formats tensor data as PyTorch's nested-list body (without `tensor(`…`)`); `indent` is the
/// column the body starts at.
pub fn format_data(data: &TensorData, indent: usize) -> String {
    let values: Vec<f64> = data
        .iter::<f64>()
        .collect();
    let integral = values.iter().all(|v| v.fract() == 0.0 && v.abs() < 1e8);
    let texts: Vec<String> = values
        .iter()
        .map(|v| if integral { format!("{v:.0}.") } else { format!("{v:.4}") })
        .collect();
    let width = texts.iter().map(String::len).max().unwrap_or(0);
    let padded: Vec<String> = texts.iter().map(|t| format!("{t:>width$}")).collect();
    if data.shape.is_empty() {
        return padded.into_iter().next().unwrap_or_default();
    }
    nest(&padded, &data.shape, indent)
}

fn nest(items: &[String], shape: &[usize], indent: usize) -> String {
    match shape {
        [] => items.first().cloned().unwrap_or_default(),
        [_] => format!("[{}]", items.join(", ")),
        [outer, inner @ ..] => {
            let chunk = inner.iter().product::<usize>().max(1);
            let blank_lines = "\n".repeat(inner.len());
            let separator = format!(",{blank_lines}{}", " ".repeat(indent + 1));
            let rows: Vec<String> = (0..*outer)
                .map(|i| nest(&items[i * chunk..(i + 1) * chunk], inner, indent + 1))
                .collect();
            format!("[{}]", rows.join(&separator))
        }
    }
}

