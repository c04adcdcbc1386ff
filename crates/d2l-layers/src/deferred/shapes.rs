//! [`parameter_shapes`]: every parameter's shape, with `-1` where a lazy layer has not inferred
//! its size yet.

use burn::tensor::backend::Backend;
use d2l_blocks::Block;
use d2l_blocks::path::{SEPARATOR, join, visit_blocks};
use d2l_params::Parameters;

/// Parameter shapes of `net` in PyTorch's orientation, with `-1` for a size a lazy layer has
/// not inferred yet (Gluon's `(256, -1)`). Any block that reports
/// [`pending_shapes`](d2l_blocks::Forward::pending_shapes) — every [`Lazy`](crate::Lazy),
/// whatever its spec, a user's own included — is listed so.
///
/// ```
/// use burn::backend::NdArray;
/// use d2l_blocks::Sequential;
/// use d2l_layers::{LazyLinear, parameter_shapes};
///
/// let net = Sequential::<NdArray>::new().add(LazyLinear::new(256));
/// assert_eq!(parameter_shapes(&net), [("0.weight".to_string(), vec![256, -1]), ("0.bias".to_string(), vec![256])]);
/// ```
pub fn parameter_shapes<B: Backend>(net: &dyn Block<B>) -> Vec<(String, Vec<isize>)> {
    let mut out = Vec::new();
    visit_blocks(net, |path, block| {
        if let Some(pending) = block.pending_shapes() {
            out.extend(
                pending
                    .into_iter()
                    .map(|(name, shape)| (join(path, &name), shape)),
            );
            return;
        }
        // The block's own parameters: those not under one of its children.
        let children: Vec<String> = block
            .children()
            .iter()
            .map(|(name, _)| name.to_string())
            .collect();
        for p in block.state_dict().iter() {
            let key = p.key();
            let first = key.split(SEPARATOR).next().unwrap_or(key);
            if !children.iter().any(|c| c == first) {
                let shape = p.shape().into_iter().map(|d| d as isize).collect();
                out.push((join(path, key), shape));
            }
        }
    });
    out
}
