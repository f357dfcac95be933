# usage: trace.sh <seed> [extra node flags]; samples VmRSS every 50 ms for 2.5 s from spawn
seed=$1; shift
rm -f /tmp/rss/t.sqlite* /tmp/rss/t.key
node "$@" /work/wt-rss/packages/server/dist/main.js serve --port 0 --db /tmp/rss/t.sqlite --secret-file /tmp/rss/t.key --seed $seed --log-level warn > /tmp/rss/out.txt 2>&1 &
pid=$!
line=""
for i in $(seq 1 50); do
  r=$(awk '/VmRSS/{print int($2/1024)}' /proc/$pid/status 2>/dev/null)
  l=$(grep -c listening /tmp/rss/out.txt)
  line="$line $((i*50))ms:$r${l/1/L}"; [ "$l" = 1 ] && line="${line%L}"
  sleep 0.05
done
echo $line
grep -E 'Rss|Threads' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' '; echo
kill $pid; wait $pid 2>/dev/null
