/**
 * lru-cache options that bound a cache to `entries` entries without allocating room for all of
 * them up front. Given `max`, lru-cache allocates its arrays for `max` entries when it is built:
 * about 2.7 MiB for 100,000, held from start-up whether or not the cache ever fills. Counted as
 * a size of one per entry instead, the same bound holds and the memory grows with the entries.
 */
export function entriesBound (entries: number): { maxSize: number, sizeCalculation: () => number } {
  return { maxSize: entries, sizeCalculation: () => 1 }
}
