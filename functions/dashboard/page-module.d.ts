/** The dashboard page, resolved at bundle time by ui/build.cjs (esbuild and vitest plugins alike). */
declare module 'qm:dashboard-page' {
  const page: import('../../ui/build.cjs').DashboardPage;
  export default page;
}
