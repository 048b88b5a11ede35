import page from 'qm:dashboard-page';
import type { Route } from '../shared/http';

/**
 * `GET /dashboard` (CONTRACT.md "Dashboard and API description"): one self-contained HTML page, built
 * from ui/ when the function is bundled (ui/build.cjs). Loading it needs no token: the page asks for the
 * operator's and sends it with every API call it makes; its fleet data never passes through this route.
 */
export const dashboardRoute: Route = {
  key: 'GET /dashboard',
  public: true,
  run: async () => ({
    status: 200,
    text: page.html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.csp,
      'x-content-type-options': 'nosniff',
      // The token travels in the fragment and in headers, never in a URL a referrer could carry; still.
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    },
  }),
};
