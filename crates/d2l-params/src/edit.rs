//! In-place edits and freezing, keeping parameters trainable (D2L §5.2.2).

use burn::module::{Module, ModuleMapper, Param, Parameter};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::ParamError;
use crate::named::PathVisitor;

/// Replaces a parameter's value by `f(value)` — the book's `w[:] += 1; w[0, 0] = 42`.
///
/// Unlike Burn's `Param::map`, the result keeps the parameter's id and its requires-grad flag,
/// so it stays trainable. Works on Burn's orientation (`[in, out]` for a Linear weight).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use d2l_params::edit_param;
///
/// let mut linear = LinearConfig::new(2, 2).init::<NdArray>(&Default::default());
/// edit_param(&mut linear.weight, |w| {
///     let w = w.zeros_like() + 1.0;
///     w.slice_assign([0..1, 0..1], burn::tensor::Tensor::full([1, 1], 42.0, &Default::default()))
/// }).unwrap();
/// assert_eq!(linear.weight.val().into_data().to_vec::<f32>().unwrap(), vec![42.0, 1.0, 1.0, 1.0]);
/// ```
///
/// # Errors
/// [`ParamError::Shape`] if `f` changes the shape; the parameter is then unchanged.
pub fn edit_param<B: Backend, const D: usize>(
    param: &mut Param<Tensor<B, D>>,
    f: impl FnOnce(Tensor<B, D>) -> Tensor<B, D>,
) -> Result<(), ParamError> {
    let value = param.val();
    let trainable = value.is_require_grad();
    let expected = value.dims().to_vec();
    let new = f(value.detach());
    let actual = new.dims().to_vec();
    if actual != expected {
        return Err(ParamError::Shape { path: String::new(), expected, actual });
    }
    let (id, _, mapper) = param.clone().consume();
    *param = Param::from_mapped_value(id, Parameter::set_require_grad(new.detach(), trainable), mapper);
    Ok(())
}

struct SetRequiresGrad {
    at: PathVisitor,
    prefix: String,
    requires_grad: bool,
    hits: Vec<String>,
    keys: Vec<String>,
}

impl SetRequiresGrad {
    fn matches(&self, key: &str) -> bool {
        self.prefix.is_empty()
            || key == self.prefix
            || key.strip_prefix(&self.prefix).is_some_and(|rest| rest.starts_with('.'))
    }
}

impl<B: Backend> ModuleMapper<B> for SetRequiresGrad {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.at.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.at.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let key = self.at.key();
        self.keys.push(key.clone());
        if !self.matches(&key) {
            return param;
        }
        self.hits.push(key);
        let (id, value, mapper) = param.consume();
        let value = if self.requires_grad { value } else { value.detach() };
        Param::from_mapped_value(id, Parameter::set_require_grad(value, self.requires_grad), mapper)
    }
}

/// Sets `requires_grad` on the parameter `key`, or on every parameter under the subtree `key`
/// (`"0"` for the first child, `""` for all); returns the keys changed.
///
/// # Errors
/// [`ParamError::UnknownKey`] if nothing matches; the module is then unchanged.
pub fn set_requires_grad<B: Backend, M: Module<B>>(
    module: &mut M,
    key: &str,
    requires_grad: bool,
) -> Result<Vec<String>, ParamError> {
    let keys: Vec<String> = crate::Parameters::parameter_views(&*module).iter().map(|p| p.key().to_owned()).collect();
    let probe = SetRequiresGrad { at: PathVisitor::default(), prefix: key.to_owned(), requires_grad, hits: Vec::new(), keys: Vec::new() };
    if !keys.iter().any(|k| probe.matches(k)) {
        return Err(ParamError::UnknownKey {
            key: key.to_owned(),
            closest: crate::error::closest(key, keys.iter().map(String::as_str)),
        });
    }
    let mut mapper = probe;
    let placeholder = module.clone();
    let owned = core::mem::replace(module, placeholder);
    *module = owned.map(&mut mapper);
    Ok(mapper.hits)
}

/// Freezes the parameter `key` or the subtree under it (`requires_grad = false`): gradients
/// stop there and optimizers leave it unchanged.
///
/// # Errors
/// As [`set_requires_grad`].
pub fn freeze<B: Backend, M: Module<B>>(module: &mut M, key: &str) -> Result<Vec<String>, ParamError> {
    set_requires_grad(module, key, false)
}
