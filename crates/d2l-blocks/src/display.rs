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

/// A type's name as PyTorch prints a class: `a::b::Residual<B>` → `Residual`.
pub(crate) fn short_type_name(full: &str) -> &str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Formats tensor data as PyTorch's nested-list body (without `tensor(`…`)`); `indent` is the
/// column the body starts at.
///
/// Integer-valued data prints as `1.`, other data with four decimals, right-aligned to a common
/// width; NaN and infinities print as PyTorch prints them (`nan`, `inf`, `-inf`). A tensor
/// without elements prints as `[]`; PyTorch adds `size=(2, 0)` after it, which
/// [`size_suffix`] gives.
///
/// ```
/// use burn::tensor::TensorData;
/// use d2l_blocks::format_data;
///
/// let data = TensorData::new(vec![1.0f32, f32::NAN, f32::NEG_INFINITY], [3]);
/// assert_eq!(format_data(&data, 7), "[  1.,  nan, -inf]");
/// assert_eq!(format_data(&TensorData::new(Vec::<f32>::new(), [2, 0]), 7), "[]");
/// ```
pub fn format_data(data: &TensorData, indent: usize) -> String {
    let values: Vec<f64> = data.iter::<f64>().collect();
    if values.is_empty() {
        return "[]".to_owned();
    }
    let integral = values
        .iter()
        .filter(|v| v.is_finite())
        .all(|v| v.fract() == 0.0 && v.abs() < 1e8);
    let texts: Vec<String> = values
        .iter()
        .map(|v| match *v {
            v if v.is_nan() => "nan".to_owned(),
            v if v.is_infinite() => {
                if v > 0.0 {
                    "inf".to_owned()
                } else {
                    "-inf".to_owned()
                }
            }
            v if integral => format!("{v:.0}."),
            v => format!("{v:.4}"),
        })
        .collect();
    let width = texts.iter().map(String::len).max().unwrap_or(0);
    let padded: Vec<String> = texts.iter().map(|t| format!("{t:>width$}")).collect();
    if data.shape.is_empty() {
        return padded.into_iter().next().unwrap_or_default();
    }
    nest(&padded, &data.shape, indent)
}

/// PyTorch's `, size=(2, 0)` for a tensor without elements of rank ≥ 2 (empty otherwise).
pub fn size_suffix(shape: &[usize]) -> String {
    if shape.len() < 2 || shape.iter().product::<usize>() != 0 {
        return String::new();
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!(", size=({})", dims.join(", "))
}

/// `items` (as many as `shape` has elements, at least one) nested as PyTorch prints them.
fn nest(items: &[String], shape: &[usize], indent: usize) -> String {
    match shape {
        [] => items.first().cloned().unwrap_or_default(),
        [_] => format!("[{}]", items.join(", ")),
        [outer, inner @ ..] => {
            let chunk = inner.iter().product::<usize>();
            let blank_lines = "\n".repeat(inner.len());
            let separator = format!(",{blank_lines}{}", " ".repeat(indent + 1));
            let rows: Vec<String> = items
                .chunks(chunk.max(1))
                .take(*outer)
                .map(|row| nest(row, inner, indent + 1))
                .collect();
            format!("[{}]", rows.join(&separator))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_size_tensors_print_without_slicing() {
        for shape in [vec![0], vec![2, 0], vec![0, 3], vec![2, 0, 4]] {
            let data = TensorData::new(Vec::<f32>::new(), shape.clone());
            assert_eq!(format_data(&data, 7), "[]", "{shape:?}");
        }
        assert_eq!(size_suffix(&[2, 0]), ", size=(2, 0)");
        assert_eq!(size_suffix(&[0]), "");
        assert_eq!(size_suffix(&[2, 3]), "");
    }

    #[test]
    fn non_finite_values_print_like_pytorch() {
        let data = TensorData::new(vec![0.5f32, f32::INFINITY], [2]);
        assert_eq!(format_data(&data, 7), "[0.5000,    inf]");
    }
}
