//! In-place edits and freezing, keeping parameters trainable (D2L §5.2.2).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::TensorMetadata;
use burn::tensor::backend::Backend;
use d2l_blocks::path::{ParamSlot, SEPARATOR, map_params, visit_params};

use crate::ParamError;
use crate::init::{map_in_place, replace_params};

/// Replaces the parameter `key` of `module` by `f(value)` — the book's `w[:] += 1;
/// w[0, 0] = 42` on `net[0].weight`.
///
/// `f` gets and returns the typed Burn tensor (Burn's orientation: `[in, out]` for a Linear
/// weight); keys and errors use PyTorch's orientation. Unlike Burn's `Param::map`, the result
/// keeps the parameter's id and its requires-grad flag, so it stays trainable; a tied
/// parameter is edited once and the edit is seen at every position.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use d2l_params::{Parameters, edit_param};
///
/// let device = Default::default();
/// let mut linear = LinearConfig::new(2, 2).init::<NdArray>(&device);
/// edit_param(&mut linear, "weight", |w: Tensor<NdArray, 2>| {
///     let w = w.zeros_like() + 1.0;
///     w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 42.0, &device))
/// }).unwrap();
/// assert_eq!(linear.param("weight").unwrap().data().to_vec::<f32>().unwrap(), vec![42.0, 1.0, 1.0, 1.0]);
/// let err = edit_param(&mut linear, "weight", |w: Tensor<NdArray, 2>| w.slice([0..1, 0..2])).unwrap_err();
/// assert_eq!(err.to_string(), "parameter `weight`: expected shape [2, 2], got [2, 1]");
/// ```
///
/// # Errors
/// [`ParamError::UnknownKey`] (with the closest keys), [`ParamError::Rank`] if the parameter
/// is not of rank `D`, [`ParamError::Shape`] if `f` changes the shape; `module` is then
/// unchanged.
pub fn edit_param<B: Backend, const D: usize, M: Module<B>>(
    module: &mut M,
    key: &str,
    f: impl FnOnce(Tensor<B, D>) -> Tensor<B, D>,
) -> Result<(), ParamError> {
    let mut f = Some(f);
    let mut keys = Vec::new();
    let edited = replace_params(module, |info, value| {
        if info.key != key {
            keys.push(info.key.clone());
            return Ok(None);
        }
        let rank = value.shape().num_dims();
        let Some(f) = f.take().filter(|_| rank == D) else {
            return Err(ParamError::Rank {
                path: info.key.clone(),
                expected: D,
                actual: rank,
            });
        };
        Ok(Some(
            f(Tensor::<B, D>::from_primitive(value).detach()).into_primitive(),
        ))
    })?;
    if edited == 0 {
        return Err(ParamError::UnknownKey {
            key: key.to_owned(),
            closest: crate::error::closest(key, keys.iter().map(String::as_str)),
        });
    }
    Ok(())
}

/// Whether `key` is `prefix` or lies under it (`""` matches every key).
fn under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key == prefix
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(SEPARATOR))
}

/// Sets `requires_grad` on the parameter `key`, or on every parameter under the subtree `key`
/// (`"0"` for the first child, `""` for all); returns the keys changed (a tied parameter
/// under its first key).
///
/// # Errors
/// [`ParamError::UnknownKey`] if nothing matches; the module is then unchanged.
pub fn set_requires_grad<B: Backend, M: Module<B>>(
    module: &mut M,
    key: &str,
    requires_grad: bool,
) -> Result<Vec<String>, ParamError> {
    let mut keys = Vec::new();
    // Buffers have no gradient to stop (PyTorch: `requires_grad` is a parameter's).
    visit_params(&*module, |path, p: ParamSlot<B>| {
        if !p.is_buffer() {
            keys.push(path.key().to_owned());
        }
    });
    if !keys.iter().any(|k| under(k, key)) {
        return Err(ParamError::UnknownKey {
            key: key.to_owned(),
            closest: crate::error::closest(key, keys.iter().map(String::as_str)),
        });
    }
    let mut hits = Vec::new();
    map_in_place(module, |owned| {
        map_params(owned, |path, p: ParamSlot<B>| {
            (!p.is_buffer() && under(path.key(), key)).then(|| {
                hits.push(path.key().to_owned());
                ParamSlot { requires_grad, ..p }
            })
        })
    });
    Ok(hits)
}

/// Freezes the parameter `key` or the subtree under it (`requires_grad = false`): gradients
/// stop there and optimizers leave it unchanged.
///
/// # Errors
/// As [`set_requires_grad`].
pub fn freeze<B: Backend, M: Module<B>>(
    module: &mut M,
    key: &str,
) -> Result<Vec<String>, ParamError> {
    set_requires_grad(module, key, false)
}
