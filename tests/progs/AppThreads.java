// A threaded Java program for tests/apps.bats: a fixed pool of 4 workers,
// atomics, a monitor (synchronized), a ConcurrentHashMap, a CyclicBarrier
// and futures.  Every printed value is exact and independent of scheduling.
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
public class AppThreads {
    public static void main(String[] a) throws Exception {
        int n = 4, iters = 200000;
        ExecutorService ex = Executors.newFixedThreadPool(n);
        AtomicLong at = new AtomicLong();
        Object lock = new Object();
        long[] shared = new long[1];
        CyclicBarrier bar = new CyclicBarrier(n);
        ConcurrentHashMap<Integer,Long> map = new ConcurrentHashMap<>();
        java.util.List<Future<Long>> fs = new java.util.ArrayList<>();
        for (int t = 0; t < n; t++) {
            final int id = t;
            fs.add(ex.submit(() -> {
                long h = id;
                for (int i = 0; i < iters; i++) {
                    h = h * 6364136223846793005L + 1442695040888963407L;
                    at.incrementAndGet();
                    if (i % 100 == 0) synchronized (lock) { shared[0] += i; }
                    if (i % 1000 == 0) map.merge(i % 97, 1L, Long::sum);
                }
                bar.await();
                return h;
            }));
        }
        long x = 0;
        for (Future<Long> f : fs) x ^= f.get();
        ex.shutdown();
        ex.awaitTermination(1, TimeUnit.MINUTES);
        long ms = 0; for (long v : map.values()) ms += v;
        System.out.println("atomic=" + at.get() + " shared=" + shared[0] + " map=" + map.size() + "/" + ms + " hash=" + Long.toHexString(x));
    }
}
