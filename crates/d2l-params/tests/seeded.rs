//! Reproducible initialization from a seed.
//!
//! A binary of its own: Burn's RNG is one per backend and process, so a seed is only
//! reproducible when no other test draws random numbers in between (tests in one binary run
//! in parallel threads).

use burn::nn::LinearConfig;
use d2l_blocks::Sequential;
use d2l_device::backend::DeviceBackend;
use d2l_device::backend_test;
use d2l_params::{Init, Parameters, init_params};

fn draw<B: DeviceBackend>(device: &B::Device, seed: u64) -> Vec<f32> {
    B::seed(device, seed);
    let mut net = Sequential::<B>::new().add(LinearConfig::new(4, 3).init(device));
    init_params(&mut net, |_| {
        Some(Init::Normal {
            mean: 0.0,
            std: 1.0,
        })
    })
    .expect("valid");
    net.state_dict()["0.weight"]
        .data()
        .to_vec::<f32>()
        .expect("f32")
}

backend_test! {
    fn the_same_seed_gives_the_same_parameters<B>(device) {
        let a = draw::<B>(device, 42);
        let b = draw::<B>(device, 42);
        let c = draw::<B>(device, 7);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
