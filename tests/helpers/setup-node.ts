// Node 20 needs --experimental-wasm-relaxed-simd for the relaxed tier; vitest workers cannot take
// it as execArgv in every pool, so set it before any module is compiled (tessera's init() would do
// the same on demand; doing it here keeps the differential simd128-vs-relaxed tests independent of that).
import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
