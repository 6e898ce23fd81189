// Progressive enhancement of the console's forms: the pages work without
// this file; with it, a USCC is checked as it is typed (GB 32100 check
// character, the rule of cert.ValidateUSCC, which the server applies
// again whatever the browser said).
(function () {
  "use strict";
  var alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function usccProblem(code) {
    if (code.length !== 18) return "18 characters: digits and upper-case letters except I, O, Z, S, V (" + code.length + " typed)";
    var sum = 0;
    for (var i = 0; i < 18; i++) {
      var v = alphabet.indexOf(code.charAt(i));
      if (v < 0) return "character " + (i + 1) + " (" + code.charAt(i) + ") is not allowed";
      if (i < 17) sum += v * weights[i];
    }
    var c = 31 - (sum % 31);
    if (c === 31) c = 0;
    if (code.charAt(17) !== alphabet.charAt(c)) return "check character is " + code.charAt(17) + " but the first 17 characters give " + alphabet.charAt(c) + " (GB 32100)";
    return "";
  }
  var input = document.getElementById("f-organization.uscc");
  if (!input) return;
  input.addEventListener("input", function () {
    input.value = input.value.toUpperCase();
    input.setCustomValidity(input.value === "" ? "" : usccProblem(input.value));
    input.reportValidity();
  });
})();
