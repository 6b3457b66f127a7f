/** Servers a test file starts, closed after each of its tests; call at the top level of the file. */
export function closedAfterEach<T extends { close(): Promise<void> }>(): T[] {
  const servers: T[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return servers;
}
