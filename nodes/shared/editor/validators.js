/*
 * The validators the node dialogs share. Not shipped as a file of its own: scripts/copy-assets.js puts this
 * text where a node's .html has the line `// @include shared/editor/validators.js` (inside the dialog
 * script's function, so nothing lands in the editor's global scope), and each dist html stays
 * self-contained. Plain ES5, as the editor runs it.
 *
 * lwm2mValidators(type) returns the helpers bound to the node's catalog, e.g. for 'lwm2m-object-write' the
 * reasons come from lwm2m-object-write.validation.<key>. Validators return true, or (when Node-RED asks with
 * opt, >= 3.1) the translated reason shown on the field; they take (v, opt) because Node-RED shows a reason
 * only from a validator of two parameters.
 */
function lwm2mValidators(type) {
  var NS = 'node-red-contrib-lwm2m-bootstrap/' + type + ':' + type + '.validation.';
  function invalid(opt, key, vars) { return opt ? RED._(NS + key, vars || {}) : false; }
  /** Whole number in [min, max]; blankOk: '' is fine (the runtime's default); envOk: ${VAR} is fine. */
  function intIn(min, max, blankOk, envOk) {
    return function (v, opt) {
      var s = String(v === undefined || v === null ? '' : v).trim();
      if (blankOk && s === '') return true;
      if (envOk && /^\$\{\w+\}$/.test(s)) return true;
      if (/^\d+$/.test(s) && +s >= min && +s <= max) return true;
      return invalid(opt, 'range', { min: min, max: max });
    };
  }
  /** One of list; missingOk: a flow saved before the property existed has none, the runtime defaults it. */
  function oneOf(list, missingOk) {
    return function (v, opt) {
      if (missingOk && (v === undefined || v === null || v === '')) return true;
      return list.indexOf(v) >= 0 || invalid(opt, 'choice');
    };
  }
  return { invalid: invalid, intIn: intIn, oneOf: oneOf };
}
