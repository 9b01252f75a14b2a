// Where the compiled library is: dist/cjs (npm run build:ts), or WSCORE_LIB to point the
// benchmarks at another tsc output directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const libDir = process.env.WSCORE_LIB ? path.resolve(process.env.WSCORE_LIB) : path.join(root, 'dist', 'cjs');
export const lib = (file) => path.join(libDir, file);
