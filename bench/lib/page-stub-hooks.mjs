/**
 * Node module hooks for benches that import a function's handler outside a bundle: the
 * dashboard page module (`qm:dashboard-page`, built from ui/ by the bundler) becomes an empty
 * page. The fleet bench never asks for GET /dashboard.
 */
export async function resolve(specifier, context, next) {
  if (specifier === 'qm:dashboard-page') {
    return { url: 'data:text/javascript,export default {html:"",csp:""}', shortCircuit: true };
  }
  return next(specifier, context);
}
