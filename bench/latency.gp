# Scenario 5's two latency distributions as cumulative curves, for
# bench/results/latest-latency.png (or quick-latency.png).  Variables (gnuplot -e): isolated, stream, out.
set terminal pngcairo size 900,540 font ",11" noenhanced
set output out
set title "paycore: commit to webhook received by nginx"
set xlabel "latency (ms; nginx $msec has 1 ms resolution, each figure +-0.5 ms; the axis stops at 5.5 ms)"
set ylabel "fraction of webhooks at or below"
# Linear from 0: with the +0.5 ms midpoint, sub-millisecond figures can be
# close to 0, which a log scale would hide.
set xrange [0:5.5]
set xtics 0.5
set yrange [0:1]
set grid xtics ytics
set key bottom right
set arrow from 1, graph 0 to 1, graph 1 nohead dashtype 2 lc rgb "#888888"
set arrow from 5, graph 0 to 5, graph 1 nohead dashtype 2 lc rgb "#888888"
set label "p50 target" at 1, graph 0.5 offset 0.5,0 textcolor rgb "#888888"
set label "p99 target" at 5, graph 0.5 offset 0.5,0 textcolor rgb "#888888"
plot isolated using 1:2 with steps lw 2 title "isolated (pause between orders)", \
     stream using 1:2 with steps lw 2 title "steady stream, 20 orders/s"
