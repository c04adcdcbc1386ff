//! The chapter's tour: every implemented section of D2L chapter 5, in book order.
//!
//! Run: `cargo run --release --example tour`. The backend is the default CPU one (flex);
//! with more backends compiled in, `D2L_BACKEND` picks one.

#[path = "../sec5_1_layers_and_blocks/main.rs"]
mod sec5_1_layers_and_blocks;
#[path = "../sec5_2_parameters/main.rs"]
mod sec5_2_parameters;
#[path = "../sec5_3_deferred_init/main.rs"]
mod sec5_3_deferred_init;
#[path = "../sec5_4_custom_layers/main.rs"]
mod sec5_4_custom_layers;
#[path = "../sec5_5_file_io/main.rs"]
mod sec5_5_file_io;
#[path = "../sec5_6_gpus/main.rs"]
mod sec5_6_gpus;

use d2l::device::backend::DeviceBackend;

d2l::main!(tour);

/// Sections 5.1 to 5.6, one after the other.
fn tour<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("Dive into Deep Learning, chapter 5 — Deep Learning Computation, on Burn\n");
    sec5_1_layers_and_blocks::section::<B>(device)?;
    println!();
    sec5_2_parameters::section::<B>(device)?;
    println!();
    sec5_3_deferred_init::section::<B>(device)?;
    println!();
    sec5_4_custom_layers::section::<B>(device)?;
    println!();
    sec5_5_file_io::section::<B>(device)?;
    println!();
    sec5_6_gpus::section::<B>(device)?;
    Ok(())
}
