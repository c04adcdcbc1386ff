//! The forward pass of a [`Sequential`], `apply`, and its [`Forward`] implementation.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::Sequential;
use crate::{Activation, Block, BlockError, Forward, impl_block, tree};

impl<B: Backend> Sequential<B> {
    /// Runs the children in order (D2L's `net(X)`) on a rank-`D` tensor that stays rank `D`
    /// — the common case, no turbofish: `net.forward(x)?`. An empty chain returns `x`.
    ///
    /// # Errors
    /// The first child's error, with its dotted path (`"0.block 1.2"`);
    /// [`BlockError::Rank`] if the output is not of rank `D` (use
    /// [`forward_tensor`](Self::forward_tensor) for a chain that changes the rank).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        self.forward_activation(x)?.into_tensor()
    }

    /// [`forward`](Self::forward) from a rank-`I` tensor to a rank-`O` tensor (the book's
    /// `FixedHiddenMLP` returns a scalar: `forward_tensor::<2, 1>`).
    ///
    /// # Errors
    /// As `forward`, and [`BlockError::Rank`] if the output is not of rank `O`.
    pub fn forward_tensor<const I: usize, const O: usize>(
        &self,
        x: Tensor<B, I>,
    ) -> Result<Tensor<B, O>, BlockError> {
        self.forward_activation(x)?.into_tensor()
    }

    /// [`forward`](Self::forward) on an [`Activation`] of any rank.
    ///
    /// # Errors
    /// As `forward`.
    pub fn forward_activation(
        &self,
        x: impl Into<Activation<B>>,
    ) -> Result<Activation<B>, BlockError> {
        if let Some(err) = &self.invalid {
            return Err(err.clone());
        }
        let x = x.into();
        crate::hooks::as_root(self, || {
            self.children.iter().try_fold(x, |x, (name, child)| {
                crate::hooks::call(name, child.as_ref(), x)
            })
        })
    }

    /// Calls `f` on every block of the tree, children before parents and the chain itself
    /// last (path `""`), each [`Shared`](crate::Shared) block once — PyTorch's
    /// `net.apply(fn)`. Downcast to act on a type:
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use burn::nn::{Linear, LinearConfig, Relu};
    /// use d2l_blocks::Sequential;
    ///
    /// let device = Default::default();
    /// let mut net = Sequential::<NdArray>::new()
    ///     .add(LinearConfig::new(4, 8).init(&device))
    ///     .add(Sequential::new().add(Relu::new()));
    /// let mut seen = Vec::new();
    /// net.apply(|path, block| {
    ///     seen.push((path.to_owned(), block.downcast_ref::<Linear<NdArray>>().is_some()));
    /// });
    /// let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    /// assert_eq!(paths, ["0", "1.0", "1", ""]);
    /// assert!(seen[0].1);
    /// ```
    ///
    /// burn-store's `ModuleSnapshot::apply` has the same name: call it as
    /// `ModuleSnapshot::apply(&mut net, …)`.
    pub fn apply(&mut self, f: impl FnMut(&str, &mut dyn Block<B>)) {
        crate::path::apply(self, f);
    }

    /// [`apply`](Self::apply) with a fallible `f` (the book's `init_normal` that may fail):
    /// the walk stops at the first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_apply<E>(
        &mut self,
        f: impl FnMut(&str, &mut dyn Block<B>) -> Result<(), E>,
    ) -> Result<(), E> {
        crate::path::try_apply(self, f)
    }
}

impl<B: Backend> Forward<B> for Sequential<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        self.forward_activation(x)
    }

    fn children(&self) -> Vec<(&str, &dyn Block<B>)> {
        self.iter().collect()
    }

    fn children_mut(&mut self) -> Vec<(&str, &mut dyn Block<B>)> {
        self.children
            .iter_mut()
            .map(|(n, c)| (n.as_str(), c.as_mut()))
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        self.training = Some(training);
        for (_, child) in &mut self.children {
            child.set_training(training);
        }
    }

    fn mode(&self) -> Option<bool> {
        self.training
    }

    fn repr(&self) -> String {
        tree(
            "Sequential",
            self.children.iter().map(|(n, c)| (n.as_str(), c.repr())),
        )
    }
}
impl_block!(Sequential<B>);
