#!/usr/bin/env python3
"""Evidence extraction at scale: a generated one-service submission whose code is 200 files,
~40,000 lines in four languages (Python, Java, Go, TypeScript), graded statically under the
phase3 rubric (DATA004 reads every file with tree-sitter; the other static checks run too).
Prints the whole-process wall time (median of N), CPU time and peak memory (max RSS), and the
same for the reference submission phase3-reference.

Usage: python3 benches/evidence-scale.py [N]   (default N=5)

Targets (issue #17): < 300 ms and < 150 MiB for the 200-file repository; the reference
submissions' whole static grade under 100 ms. Not part of CI: the figures go in the notes.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5

PY = '''
class Repository{i}:
    def __init__(self, conn, producer):
        self.conn, self.producer = conn, producer

    def save_{j}(self, order):
        with self.conn.transaction() as tx:
            tx.execute("INSERT INTO orders (id, status) VALUES (%s, %s)", (order.id, order.status))
            tx.execute("INSERT INTO outbox (aggregate_id, payload) VALUES (%s, %s)", (order.id, order.json()))

    def load_{j}(self, order_id):
        rows = self.conn.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
        return [dict(r) for r in rows if r is not None]
'''
JAVA = '''
    public Order save{j}(Order order) {{
        Order saved = orderRepository.save(order);
        outboxRepository.save(new OutboxEvent(saved.getId(), "OrderPlaced"));
        return saved;
    }}

    public java.util.List<Order> list{j}(String status) {{
        return orderRepository.findByStatus(status).stream().filter(o -> o.getTotal() > 0).toList();
    }}
'''
GO = '''
func (s *Service) Place{j}(ctx context.Context, id string) error {{
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {{
		return err
	}}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id) VALUES ($1)", id); err != nil {{
		return err
	}}
	if _, err := tx.ExecContext(ctx, "INSERT INTO outbox (aggregate_id) VALUES ($1)", id); err != nil {{
		return err
	}}
	return tx.Commit()
}}
'''
TS = '''
  async place{j}(order: Order): Promise<Order> {{
    return this.dataSource.transaction(async (manager) => {{
      const saved = await manager.save(order);
      await manager.getRepository(OutboxEvent).save({{ aggregateId: saved.id, type: "OrderPlaced" }});
      return saved;
    }});
  }}
'''


def generate(root):
    src = os.path.join(root, "services", "orders", "src")
    os.makedirs(src)
    lines = 0
    for i in range(50):
        body = "".join(PY.format(i=i * 100 + j, j=j) for j in range(13))
        text = "import json\n" + body
        open(os.path.join(src, f"repo_{i}.py"), "w").write(text)
        lines += text.count("\n")
        body = "".join(JAVA.format(j=j) for j in range(20))
        text = f"package shop;\n\npublic class Service{i} {{\n{body}}}\n"
        open(os.path.join(src, f"Service{i}.java"), "w").write(text)
        lines += text.count("\n")
        body = "".join(GO.format(j=j) for j in range(12))
        text = f"package orders\n\nimport \"context\"\n\ntype Service{i} struct{{}}\n{body}".replace("(s *Service)", f"(s *Service{i})")
        open(os.path.join(src, f"orders_{i}.go"), "w").write(text)
        lines += text.count("\n")
        body = "".join(TS.format(j=j) for j in range(22))
        text = f"export class OrdersService{i} {{\n{body}}}\n"
        open(os.path.join(src, f"orders_{i}.service.ts"), "w").write(text)
        lines += text.count("\n")
    open(os.path.join(root, "submission.toml"), "w").write(
        '[[context]]\nname = "ordering"\n\n[[datastore]]\nname = "orders-db"\nkind = "postgres"\n\n'
        '[[service]]\nname = "orders"\ncontext = "ordering"\nsource = "services/orders/src"\nowns = ["orders-db"]\n'
        'publishes = ["OrderPlaced"]\nevent_delivery = "outbox"\n'
    )
    return lines


def measure(grade, sub):
    runs = []
    for _ in range(N):
        t = time.perf_counter()
        p = subprocess.Popen([grade, "phase3", sub, "--static-only", "--format", "json"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) not in (0, 1, 3):
            sys.exit(f"grade {sub}: exit {os.waitstatus_to_exitcode(status)}")
        runs.append(((time.perf_counter() - t) * 1000, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs)


subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
grade = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "grade")
tmp = tempfile.mkdtemp(prefix="grade-evidence-bench-")
try:
    lines = generate(tmp)
    files = sum(len(f) for _, _, f in os.walk(os.path.join(tmp, "services")))
    print(f"{'submission':<44} {'wall ms':>8} {'CPU ms':>7} {'MiB':>6}  (median of {N}, static phase3 grade)")
    w, c, m = measure(grade, tmp)
    print(f"{f'generated: {files} files, {lines} lines, 4 languages':<44} {w:>8.1f} {c:>7.1f} {m:>6.1f}")
    ref = os.path.join(ROOT, "fixtures", "submissions", "phase3-reference")
    w, c, m = measure(grade, ref)
    print(f"{'fixtures/submissions/phase3-reference':<44} {w:>8.1f} {c:>7.1f} {m:>6.1f}")
finally:
    shutil.rmtree(tmp)
