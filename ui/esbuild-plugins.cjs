// serverless.yml custom.esbuild.plugins: the esbuild plugins the functions' bundles are built with.
module.exports = [require('./build.cjs').dashboardPagePlugin];
