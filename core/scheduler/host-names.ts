/**
 * Host names compare case-insensitively (DNS names, as Nova's ignore_hosts /
 * force_hosts matching does), without allocating a lower-cased copy per host.
 */

/** Whether `name` equals `lower` (already lower case), ignoring ASCII case. */
export const sameHostName = (name: string, lower: string): boolean => {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
};
