'use strict';

module.exports = require('./tiers.js')('unit');
