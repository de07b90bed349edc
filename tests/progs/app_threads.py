# A python3 program for tests/apps.bats: 4 threading.Threads insert rows
# into one sqlite3 database (each with its own connection, serialised by a
# threading.Lock), report through a queue.Queue, and the main thread prints
# the row count and a digest of the rows in key order: exact and independent
# of scheduling.
#
#   python3 app_threads.py DIR      (the database is DIR/t.db)
import threading, sqlite3, hashlib, queue, os, sys
db = os.path.join(sys.argv[1], "t.db")
con = sqlite3.connect(db); con.execute("create table t(k integer primary key, v text)"); con.commit(); con.close()
lock = threading.Lock(); q = queue.Queue()
def worker(w):
    c = sqlite3.connect(db, timeout=60)
    for i in range(200):
        h = hashlib.sha256(f"{w}-{i}".encode()).hexdigest()
        with lock:
            c.execute("insert into t values(?,?)", (w*1000+i, h)); c.commit()
    q.put(w); c.close()
ts = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
for t in ts: t.start()
for t in ts: t.join()
c = sqlite3.connect(db)
print(sorted(q.get() for _ in range(4)), c.execute("select count(*) from t").fetchone()[0],
      hashlib.sha256("".join(v for (v,) in c.execute("select v from t order by k")).encode()).hexdigest())
