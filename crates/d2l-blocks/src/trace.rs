//! Shape tracing and forward hooks keyed by PyTorch's module names (`named_modules`).
//!
//! Built on [`hooks`](crate::hooks): containers and models run each child through [`call`],
//! which adds the child's name to error paths, fires the child's hooks and, while [`hooked`]
//! or [`capture`] runs, reports the child's output under its dotted path (`b2.0.conv1`). A
//! custom block that calls its children through [`call`] gets the same paths, errors and hooks
//! as a [`Sequential`](crate::Sequential):
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::nn::{LinearConfig, Relu};
//! use burn::tensor::Tensor;
//! use d2l_blocks::{Sequential, trace};
//!
//! let device = Default::default();
//! let net = Sequential::<NdArray>::new()
//!     .add(LinearConfig::new(4, 8).init(&device))
//!     .add(Sequential::new().add(Relu::new()))
//!     .add(LinearConfig::new(8, 2).init(&device));
//! let (y, seen) = trace::capture::<NdArray, _>(&["1.0", "2"], || net.forward(Tensor::ones([3, 4], &device)));
//! assert_eq!(y.unwrap().dims(), [3, 2]);
//! assert_eq!(seen.get("1.0").map(|a| a.shape()), Some(vec![3, 8]));
//! assert_eq!(seen.paths(), ["1.0", "2"]);
//! ```

use core::cell::RefCell;
use std::rc::Rc;

use burn::tensor::backend::Backend;

pub use crate::hooks::{call, hooked};
use crate::{Activation, Block, BlockError};

/// The outputs a [`capture`] kept, by dotted path, in the order the blocks ran.
#[derive(Debug)]
pub struct Captured<B: Backend> {
    entries: Vec<(String, Activation<B>)>,
}

impl<B: Backend> Captured<B> {
    /// The output of the block at `path` (its last run, for a block run twice).
    pub fn get(&self, path: &str) -> Option<&Activation<B>> {
        self.entries
            .iter()
            .rev()
            .find(|(p, _)| p == path)
            .map(|(_, a)| a)
    }

    /// The paths captured, in the order their blocks ran.
    pub fn paths(&self) -> Vec<&str> {
        self.entries.iter().map(|(p, _)| p.as_str()).collect()
    }

    /// `(path, output)` in the order the blocks ran.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Activation<B>)> {
        self.entries.iter().map(|(p, a)| (p.as_str(), a))
    }
}

/// Runs `f` (a forward pass) and keeps the outputs of the blocks at `paths` (dotted, as
/// `named_modules` lists them; every block if `paths` is empty) — activation capture.
pub fn capture<B: Backend, R>(paths: &[&str], f: impl FnOnce() -> R) -> (R, Captured<B>) {
    let wanted: Vec<String> = paths.iter().map(|p| (*p).to_owned()).collect();
    let kept = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&kept);
    let out = hooked(
        move |path: &str, _: &dyn Block<B>, y: &Activation<B>| {
            if wanted.is_empty() || wanted.iter().any(|w| w == path) {
                sink.borrow_mut().push((path.to_owned(), y.clone()));
            }
        },
        f,
    );
    let entries = kept.take();
    (out, Captured { entries })
}

/// The class name of a block as PyTorch's `type(m).__name__` gives it: its printout up to the
/// first `(` (`Conv2d`, `Sequential`, `Residual`).
pub fn class_name<B: Backend>(block: &dyn Block<B>) -> String {
    let repr = block.repr();
    repr.split('(').next().unwrap_or_default().to_owned()
}

/// Every module of the tree with its dotted path, parents first (`""` for the root) —
/// PyTorch's `named_modules()`. A tied ([`Shared`](crate::Shared)) block is listed once, at its
/// first position, as PyTorch lists a shared module.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::{LinearConfig, Relu};
/// use d2l_blocks::{Sequential, trace};
///
/// let net = Sequential::<NdArray>::new().add(LinearConfig::new(2, 3).init(&Default::default())).add(Relu::new());
/// let listed: Vec<(String, String)> = trace::named_modules(&net)
///     .into_iter()
///     .map(|(path, module)| (path, trace::class_name(module)))
///     .collect();
/// assert_eq!(listed[1], ("0".to_owned(), "Linear".to_owned()));
/// assert_eq!(listed.len(), 3);
/// ```
pub fn named_modules<B: Backend>(root: &dyn Block<B>) -> Vec<(String, &dyn Block<B>)> {
    fn walk<'a, B: Backend>(
        block: &'a dyn Block<B>,
        path: &str,
        seen: &mut std::collections::HashSet<usize>,
        out: &mut Vec<(String, &'a dyn Block<B>)>,
    ) {
        for (name, child) in block.children() {
            if let Some(shared) = child.downcast_ref::<crate::Shared<B>>() {
                if !seen.insert(shared.key()) {
                    continue;
                }
            }
            let child_path = crate::path::join(path, name);
            out.push((child_path.clone(), child));
            walk(child, &child_path, seen, out);
        }
    }
    let mut out = vec![(String::new(), root)];
    walk(root, "", &mut std::collections::HashSet::new(), &mut out);
    out
}

/// One line of the book's `layer_summary`: a top-level block's class and output shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerShape {
    /// The block's class name (`Conv2d`).
    pub class: String,
    /// Its output shape.
    pub shape: Vec<usize>,
}

impl core::fmt::Display for LayerShape {
    /// The book's line: `Conv2d output shape:\t torch.Size([1, 6, 28, 28])`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} output shape:\t torch.Size({:?})",
            self.class, self.shape
        )
    }
}

impl<B: Backend> crate::Sequential<B> {
    /// Runs `x` through the top-level blocks one at a time and reports each one's class and
    /// output shape — the book's `layer_summary` (§7.6); lazy layers infer their shapes on
    /// the way, as in PyTorch.
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use burn::nn::{LinearConfig, Relu};
    /// use burn::tensor::Tensor;
    /// use d2l_blocks::Sequential;
    ///
    /// let device = Default::default();
    /// let net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 8).init(&device)).add(Relu::new());
    /// let summary = net.layer_summary(Tensor::<NdArray, 2>::ones([1, 4], &device)).unwrap();
    /// assert_eq!(summary[0].to_string(), "Linear output shape:\t torch.Size([1, 8])");
    /// assert_eq!(summary[1].class, "ReLU");
    /// ```
    ///
    /// # Errors
    /// The first block's error, with its path.
    pub fn layer_summary(
        &self,
        x: impl Into<Activation<B>>,
    ) -> Result<Vec<LayerShape>, BlockError> {
        let mut x = x.into();
        let mut out = Vec::with_capacity(self.len());
        for (name, child) in self.iter() {
            x = call(name, child, x.clone())?;
            out.push(LayerShape {
                class: class_name(child),
                shape: x.shape(),
            });
        }
        Ok(out)
    }
}
