/** The built dashboard page: its HTML and the Content-Security-Policy that lets only its own script and style run. */
export interface DashboardPage {
  html: string;
  csp: string;
}
export declare const PAGE_MODULE: 'qm:dashboard-page';
export declare const buildDashboardPage: () => DashboardPage;
export declare const dashboardPagePlugin: { name: string; setup(build: unknown): void };
