//! [`CpuKernels`] on `Autodiff<B>`: the inner backend's kernels forward, and backward steps
//! that call the inner backend's kernels for the gradients.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::tensor::ops::{ConvOptions, FloatTensor};

use super::CpuKernels;

/// The sigmoid's backward from its saved output (Burn's recomputes the sigmoid).
#[derive(Debug)]
struct SigmoidBackward;

impl<B: CpuKernels> Backward<B, 1> for SigmoidBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            <B as CpuKernels>::sigmoid_backward(output, grad)
        });
    }
}

/// `exp`'s backward from its saved output: `grad · e^x`.
#[derive(Debug)]
struct ExpBackward;

impl<B: CpuKernels> Backward<B, 1> for ExpBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::float_mul(grad, output)
        });
    }
}

/// What the convolution's backward needs: its input, weight and options.
#[derive(Debug, Clone)]
struct ConvState<B: CpuKernels> {
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    options: ConvOptions<2>,
}

impl<B: CpuKernels> ConvState<B> {
    /// Registers the gradients of `x` and `weight` for the parents that want them.
    fn backward(
        self,
        [x_id, weight_id]: [Option<NodeId>; 2],
        grad: &FloatTensor<B>,
        grads: &mut Gradients,
    ) {
        if let Some(id) = x_id {
            let dx = <B as CpuKernels>::conv2d_x_backward(
                self.x.clone(),
                self.weight.clone(),
                grad.clone(),
                self.options.clone(),
            );
            grads.register::<B>(id, dx);
        }
        if let Some(id) = weight_id {
            let dw = <B as CpuKernels>::conv2d_weight_backward(
                self.x,
                self.weight,
                grad.clone(),
                self.options,
            );
            grads.register::<B>(id, dw);
        }
    }
}

/// A convolution without bias.
#[derive(Debug)]
struct Conv2dBackward;

impl<B: CpuKernels> Backward<B, 2> for Conv2dBackward {
    type State = ConvState<B>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let ids = ops.parents.map(|parent| parent.map(|node| node.id));
        ops.state.backward(ids, &grad, grads);
    }
}

/// A convolution with bias.
#[derive(Debug)]
struct Conv2dBiasBackward;

impl<B: CpuKernels> Backward<B, 3> for Conv2dBiasBackward {
    type State = (ConvState<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let [node_x, node_weight, node_bias] = ops.parents;
        let (state, bias) = ops.state;
        if let Some(node) = node_bias {
            let x = state.x.clone();
            let db = <B as CpuKernels>::conv2d_bias_backward(x, bias, grad.clone());
            grads.register::<B>(node.id, db);
        }
        let ids = [node_x, node_weight].map(|parent| parent.map(|node| node.id));
        state.backward(ids, &grad, grads);
    }
}

impl<B: CpuKernels, C: CheckpointStrategy> CpuKernels for Autodiff<B, C> {
    fn sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        // Compute-bound: the saved output is the state, so nothing is recomputed.
        match SigmoidBackward
            .prepare::<C>([x.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = <B as CpuKernels>::sigmoid(x.primitive);
                prep.finish(y.clone(), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(<B as CpuKernels>::sigmoid(x.primitive)),
        }
    }

    fn exp(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match ExpBackward
            .prepare::<C>([x.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let y = <B as CpuKernels>::exp(x.primitive);
                prep.finish(y.clone(), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(<B as CpuKernels>::exp(x.primitive)),
        }
    }

    fn conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let state = |x: &FloatTensor<Self>, weight: &FloatTensor<Self>| ConvState::<B> {
            x: x.primitive.clone(),
            weight: weight.primitive.clone(),
            options: options.clone(),
        };
        match bias {
            Some(bias) => match Conv2dBiasBackward
                .prepare::<C>([x.node.clone(), weight.node.clone(), bias.node.clone()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let state = (state(&x, &weight), bias.primitive.clone());
                    let y = <B as CpuKernels>::conv2d(
                        x.primitive,
                        weight.primitive,
                        Some(bias.primitive),
                        options,
                    );
                    prep.finish(state, y)
                }
                OpsKind::UnTracked(prep) => prep.finish(<B as CpuKernels>::conv2d(
                    x.primitive,
                    weight.primitive,
                    Some(bias.primitive),
                    options,
                )),
            },
            None => match Conv2dBackward
                .prepare::<C>([x.node.clone(), weight.node.clone()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let state = state(&x, &weight);
                    prep.finish(
                        state,
                        <B as CpuKernels>::conv2d(x.primitive, weight.primitive, None, options),
                    )
                }
                OpsKind::UnTracked(prep) => prep.finish(<B as CpuKernels>::conv2d(
                    x.primitive,
                    weight.primitive,
                    None,
                    options,
                )),
            },
        }
    }
}
