// Builds the dashboard page (GET /dashboard) at bundle time: ui/main.ts bundled by esbuild into one
// inline script, ui/dashboard.css inline, into ui/dashboard.html. Nothing is fetched at run time (no CDN).
// CommonJS because serverless-esbuild `require`s its plugins file (serverless.yml custom.esbuild.plugins).
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');

/** The id the report function imports the page by (functions/dashboard/page.ts). */
const PAGE_MODULE = 'qm:dashboard-page';

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The page and its Content-Security-Policy: only this script and this style may run (by hash), requests
 * go to this origin only, so a host name or reason that slipped past the escaping still could not act.
 */
const buildDashboardPage = () => {
  const out = esbuild.buildSync({
    entryPoints: [join(__dirname, 'main.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    legalComments: 'none',
  });
  // `</script` inside the script would end the element early; esbuild escapes it in strings, this is a guard.
  const script = out.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
  const css = readFileSync(join(__dirname, 'dashboard.css'), 'utf8');
  const template = readFileSync(join(__dirname, 'dashboard.html'), 'utf8');
  const html = template.replace('/*CSS*/', () => css).replace('/*JS*/', () => script);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(css)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
};

/** The esbuild plugin that resolves `qm:dashboard-page` to the built page (a JSON module). */
const dashboardPagePlugin = {
  name: 'qm-dashboard-page',
  setup(build) {
    build.onResolve({ filter: /^qm:dashboard-page$/ }, (args) => ({ path: args.path, namespace: 'qm-dashboard' }));
    build.onLoad({ filter: /.*/, namespace: 'qm-dashboard' }, () => ({
      contents: JSON.stringify(buildDashboardPage()),
      loader: 'json',
      // Every module of the page (main.ts imports the views), the style and the template.
      watchFiles: readdirSync(__dirname)
        .filter(
          (f) => (f.endsWith('.ts') && !f.endsWith('.test.ts')) || f === 'dashboard.css' || f === 'dashboard.html',
        )
        .map((f) => join(__dirname, f)),
    }));
  },
};

module.exports = { PAGE_MODULE, buildDashboardPage, dashboardPagePlugin };
