/* PostCSS plugin (build time only): drop the Radix Themes CSS this app can never use.
 *
 * Written into the frontend build folder by app/frontend_build.py, which fills in CONFIG.
 * The whole Radix Themes stylesheet is render-blocking on every page (≈ 85 KB gzip, most of
 * it for components and colours the app does not have). A selector is dropped only when it
 * can never match here:
 *   - it names, outside any parentheses, the class of a Radix component the app never
 *     renders (`.rt-SelectTrigger`, `.rt-TabsList`, …): every element it matches would carry
 *     that class;
 *   - it is a margin or padding utility of the Radix layout props (`.rt-r-mt-2`,
 *     `.md\:-rt-r-mx-1`): the app spaces things with CSS (`margin_top="8px"`), never with
 *     those props;
 *   - it is a responsive size variant (`:where(.md\:rt-r-size-2)`): the app gives no
 *     component a size per breakpoint;
 *   - it maps an accent or gray colour the app does not import
 *     (`[data-accent-color='purple']`);
 *   - it gives the page's root the tokens of a root theme with an appearance class
 *     (`:root:where(:has(.radix-themes[data-is-root-theme=true]:where(.light,.light-theme)))`):
 *     the app's theme has no appearance (rxconfig.py), so its root theme never has that class.
 *     Never matching, these `:has()` selectors still cost: the browser checks them again at
 *     every change to the page, and restyled the whole page after each one (a long task on a
 *     cheap phone at every state change, issue 20).
 * Rules left without selectors are removed, then media blocks left empty.
 * tests/unit/test_frontend_build.py checks the app's source against both promises.
 */
const CONFIG = __DH_CONFIG__;

const unusedComponent = new RegExp(`\\.rt-(?:${CONFIG.unusedComponents.join("|")})[A-Za-z]*(?![\\w-])`);
const unusedUtility = new RegExp(
  `\\.(?:(?:xs|sm|md|lg|xl)\\\\:)?-?rt-r-(?:${CONFIG.unusedUtilities.join("|")})-`);
const responsiveSize = /:where\(\.(?:xs|sm|md|lg|xl)\\:rt-r-size-\d+\)/;
const colourMapping = /\[data-(?:accent|gray)-color='([a-z]*)'\]/;
const colours = new Set(["", ...CONFIG.colours]);
const rootThemeWithAppearance = /^:root:where\(:has\(\.radix-themes\[data-is-root-theme=['"]?true['"]?\]:where\(/;

function outsideParentheses(selector) {
  let out = "";
  let depth = 0;
  for (const ch of selector) {
    if (ch === "(") depth += 1;
    else if (ch === ")") depth -= 1;
    else if (depth === 0) out += ch;
  }
  return out;
}

function neverMatches(selector) {
  const top = outsideParentheses(selector);
  if (unusedComponent.test(top) || unusedUtility.test(top)) return true;
  if (responsiveSize.test(selector) || rootThemeWithAppearance.test(selector)) return true;
  const colour = selector.match(colourMapping);
  return colour !== null && !colours.has(colour[1]);
}

const leanRadix = () => ({
  postcssPlugin: "dh-lean-radix",
  OnceExit(root) {
    root.walkRules((rule) => {
      if (rule.parent && rule.parent.type === "atrule" && /keyframes$/i.test(rule.parent.name)) return;
      const keep = rule.selectors.filter((s) => !neverMatches(s));
      if (keep.length === 0) rule.remove();
      else if (keep.length !== rule.selectors.length) rule.selectors = keep;
    });
    root.walkAtRules((at) => {
      if (at.nodes && at.nodes.length === 0 && !/keyframes$/i.test(at.name)) at.remove();
    });
  },
});
leanRadix.postcss = true;

export default leanRadix;
