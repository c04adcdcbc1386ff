//! What an example needs besides its cells: one line that runs it, and the book's cell marks.

/// The environment variable that makes [`cell`] mark where each book cell's output begins.
/// `cargo xtask book` sets it when it captures the examples' output; nobody else needs it.
pub const CELL_MARKS_ENV: &str = "D2L_BOOK_CELLS";

/// The line prefix [`cell`] prints (an ASCII record separator, so it never clashes with what
/// an example prints).
pub const CELL_MARK: &str = "\u{1e}cell ";

/// Marks the start of the book cell `name`: the lines an example prints from here to the next
/// mark are that cell's output in the book.
///
/// It prints nothing unless [`CELL_MARKS_ENV`] is set, so a learner running the example sees
/// only what the book shows. In an example it shares its line with the mdBook anchor it marks:
/// `d2l::cell("sequential"); // ANCHOR: sequential`.
pub fn cell(name: &str) {
    if std::env::var_os(CELL_MARKS_ENV).is_some() {
        println!("{CELL_MARK}{name}");
    }
}

/// Writes an example's `main`: runs `section::<B>(&device)` on the backend `D2L_BACKEND`
/// selects (else flex, the default), through [`run`](crate::run).
///
/// `section` is a function generic over the backend,
/// `fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result`, so the facade's tests run
/// the same body on every backend.
///
/// ```
/// use burn::tensor::Tensor;
/// use d2l::device::backend::DeviceBackend;
///
/// fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
///     let x = Tensor::<B, 1>::ones([3], device);
///     assert_eq!(x.dims(), [3]);
///     Ok(())
/// }
///
/// d2l::main!(section);
/// # fn run_it() -> d2l::Result { main() }
/// # run_it().unwrap();
/// ```
#[macro_export]
macro_rules! main {
    ($section:ident) => {
        /// Runs the section on the backend `D2L_BACKEND` selects.
        #[allow(dead_code)]
        fn main() -> $crate::Result {
            struct Section;
            impl $crate::device::backend::BackendTask for Section {
                type Output = $crate::Result;
                fn run<B: $crate::device::backend::DeviceBackend>(
                    self,
                    device: &B::Device,
                ) -> $crate::Result {
                    $section::<B>(device)
                }
            }
            $crate::run(Section)
        }
    };
}
