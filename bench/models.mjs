// The benchmark models, built with the caller's tfjs module (each script loads its own copy).
// Seeded initializers so every variant starts from the same weights.

const glorot = (tf, seed) => tf.initializers.glorotUniform({ seed });

/** MLP 784-256-10 (the MLP). */
export function benchMlp(tf) {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: glorot(tf, 1) }),
      tf.layers.dense({ units: 10, kernelInitializer: glorot(tf, 2) }),
    ],
  });
}

/** The small CNN: conv16-pool-conv32-pool-dense on 28x28x1. */
export function benchCnn(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(tf, 1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(tf, 2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: glorot(tf, 3) }),
    ],
  });
}

/** A CNN with batch normalization and average pooling on 32x32x3 (conv16-bn-relu-avgpool-conv32-gap-dropout-dense). */
export function benchBnCnn(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 16, kernelSize: 3, padding: 'same', kernelInitializer: glorot(tf, 1) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(tf, 2) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dropout({ rate: 0.2 }),
      tf.layers.dense({ units: 10, kernelInitializer: glorot(tf, 3) }),
    ],
  });
}

/** A MobileNet-style block on 32x32x3: strided conv, depthwise, pointwise, separable conv, global pooling. */
export function benchDwCnn(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: glorot(tf, 1) }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: glorot(tf, 2) }),
      tf.layers.conv2d({ filters: 64, kernelSize: 1, activation: 'relu', kernelInitializer: glorot(tf, 3) }),
      tf.layers.separableConv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', depthwiseInitializer: glorot(tf, 4), pointwiseInitializer: glorot(tf, 5) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 10, kernelInitializer: glorot(tf, 6) }),
    ],
  });
}

/** The MLP of examples/mnist-mlp.mjs: 784-512-10 with dropout 0.4. */
export function benchMnistMlp(tf) {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 512, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
      tf.layers.dropout({ rate: 0.4 }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

/**
 * One training step as @luzts/core takes it (variableGrads + applyGradients, Adam 1e-3, softmax
 * cross-entropy on logits), synced on the loss: returns the step function.
 */
export function adamStepper(tf, { model, x, y }) {
  const opt = tf.train.adam(1e-3);
  return () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })));
      opt.applyGradients(grads);
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };
}
