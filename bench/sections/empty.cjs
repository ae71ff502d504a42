'use strict'; // Imported first by import-cost.mjs so that the module loader's own start-up cost is not charged to the package measured.
module.exports = {};
