//! Reaching a [`Sequential`]'s children: by index (`net[2]`), name, type and iteration, and
//! the `dyn Block` helpers (`downcast_ref`, `rgnet[0][1][0]`).

use core::fmt;
use core::ops::{Index, IndexMut};

use burn::tensor::backend::Backend;

use super::Sequential;
use crate::{Block, BlockError};

impl<B: Backend> Sequential<B> {
    /// Number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The child at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<&dyn Block<B>> {
        self.children.get(index).map(|(_, c)| c.as_ref())
    }

    /// The child at `index`, mutably, or `None` past the end.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut dyn Block<B>> {
        self.children.get_mut(index).map(|(_, c)| c.as_mut())
    }

    /// The boxed child at `index`, to replace it (e.g. with [`map_block`](crate::map_block)).
    pub fn get_boxed_mut(&mut self, index: usize) -> Option<&mut Box<dyn Block<B>>> {
        self.children.get_mut(index).map(|(_, c)| c)
    }

    /// The child at `index`, or [`BlockError::Index`].
    ///
    /// # Errors
    /// [`BlockError::Index`] past the end.
    pub fn try_get(&self, index: usize) -> Result<&dyn Block<B>, BlockError> {
        self.get(index).ok_or(BlockError::Index {
            index,
            len: self.len(),
        })
    }

    /// The child named `name` (`"block 0"`, `"2"`).
    pub fn get_named(&self, name: &str) -> Option<&dyn Block<B>> {
        self.index.get(name).and_then(|&i| self.get(i))
    }

    /// The child at `index` as its concrete type, or `None` if out of range or of another type.
    ///
    /// ```
    /// # use burn::backend::NdArray;
    /// # use burn::nn::{Linear, LinearConfig, Relu};
    /// # use d2l_blocks::Sequential;
    /// # let device = Default::default();
    /// let net = Sequential::<NdArray>::new().add(Relu::new()).add(LinearConfig::new(4, 2).init(&device));
    /// assert!(net.child::<Linear<NdArray>>(1).is_some());
    /// assert!(net.child::<Linear<NdArray>>(0).is_none());
    /// ```
    pub fn child<T: 'static>(&self, index: usize) -> Option<&T> {
        self.get(index)?.as_any().downcast_ref()
    }

    /// The child at `index` as its concrete type, mutably.
    pub fn child_mut<T: 'static>(&mut self, index: usize) -> Option<&mut T> {
        self.get_mut(index)?.as_any_mut().downcast_mut()
    }

    /// Children in order, with their names.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &dyn Block<B>)> {
        self.children.iter().map(|(n, c)| (n.as_str(), c.as_ref()))
    }
}

impl<B: Backend> Index<usize> for Sequential<B> {
    type Output = dyn Block<B>;

    /// The child at `index` (`net[2]`).
    ///
    /// # Panics
    /// Past the end, as slice indexing does; [`Sequential::get`] returns an `Option` instead.
    fn index(&self, index: usize) -> &Self::Output {
        match self.get(index) {
            Some(child) => child,
            None => panic!(
                "index {index} out of range for a Sequential of {} children",
                self.len()
            ),
        }
    }
}

impl<B: Backend> IndexMut<usize> for Sequential<B> {
    fn index_mut(&mut self, index: usize) -> &mut Self::Output {
        let len = self.len();
        match self.get_mut(index) {
            Some(child) => child,
            None => panic!("index {index} out of range for a Sequential of {len} children"),
        }
    }
}

impl<B: Backend> dyn Block<B> {
    /// The block as its concrete type, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The block as its concrete type, mutably, if it is a `T`.
    pub fn downcast_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }

    /// The block as a [`Sequential`], if it is one (for `rgnet[0][1][0]`).
    pub fn as_sequential(&self) -> Option<&Sequential<B>> {
        self.downcast_ref()
    }
}

impl<B: Backend> Index<usize> for dyn Block<B> {
    type Output = dyn Block<B>;

    /// Child `index` of a nested [`Sequential`] (`rgnet[0][1][0]`).
    ///
    /// # Panics
    /// If the block is not a `Sequential` or has no such child; use
    /// `as_sequential()` and [`Sequential::get`] to get `Option`s.
    fn index(&self, index: usize) -> &Self::Output {
        match self.as_sequential() {
            Some(seq) => &seq[index],
            None => panic!(
                "`{}` is not a Sequential and has no children by index",
                self.type_name()
            ),
        }
    }
}

impl<B: Backend> fmt::Display for dyn Block<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr())
    }
}
