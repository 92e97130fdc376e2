// Child process for node.test.ts: loads a model saved by luzSave (no module: rebuilt from its
// topology) and writes its predictions on deterministic inputs as JSON.
// Run: node --conditions=@luzts/source --import ./ts-loader.mjs load-predict-child.mjs <model> <out.json>
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { accelerator, predict } from '@luzts/core';
import { luzLoad } from '@luzts/core/node';

const [modelPath, outPath] = process.argv.slice(2);
const fitted = await luzLoad(modelPath);
const x = tf.tensor2d(Array.from({ length: 40 }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j))));
const pred = await predict(fitted, x, { verbose: false, accelerator: accelerator({ backend: 'cpu' }) });
writeFileSync(outPath, JSON.stringify({ pred: Array.from(pred.dataSync()), records: fitted.records.metrics }));
