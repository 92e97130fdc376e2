/**
 * Small argument checks for the mixup package.
 * @internal
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describeValue as describe } from '@luzts/core';

export { checkOptionKeys, describeValue as describe } from '@luzts/core';

