// The ESM face of the register entry (`node --import`): it loads the CommonJS
// entry, so `import` and `require` of the package share one instance (one
// captured environment, one patched listen()).
import './index.js';
