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

fn main() -> d2l::Result {
    println!("Dive into Deep Learning, chapter 5 — Deep Learning Computation, on Burn\n");
    d2l::run(sec5_1_layers_and_blocks::Section)?;
    println!();
    d2l::run(sec5_2_parameters::Section)?;
    println!();
    d2l::run(sec5_3_deferred_init::Section)?;
    println!();
    d2l::run(sec5_4_custom_layers::Section)?;
    println!();
    d2l::run(sec5_5_file_io::Section)?;
    println!();
    d2l::run(sec5_6_gpus::Section)?;
    Ok(())
}
