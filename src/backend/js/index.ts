/** The pure-TS backend: file for file the twin of native/. */
import type { Backend } from '../types';
import { mask, unmask } from './mask';
import { isUtf8, utf8Step } from './utf8';
import { parseFrames } from './frames';
import { createDeflater, createInflater } from './deflate';

export const jsBackend: Backend = Object.freeze({
  name: 'js',
  mask,
  unmask,
  isUtf8,
  utf8Step,
  parseFrames,
  createInflater,
  createDeflater,
});
