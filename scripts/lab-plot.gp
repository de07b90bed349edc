# lab-plot.gp - completion-time CDFs for scripts/lab.sh.
#
#   gnuplot -e "datadir='build/lab/cdf'; group='plain'; confs='native-1cpu goro-p1'; \
#               out='docs/lab/cdf-plain'; ttl='plain: ...'" scripts/lab-plot.gp
#
# Reads datadir/GROUP.CONF.dat ("ms fraction" per line, sorted) for every word
# of confs and draws one step curve per configuration into out.svg and out.png.

if (!exists("ttl")) ttl = group

set title ttl noenhanced
set xlabel "completion time since the common start (ms)"
set ylabel "fraction of threads finished"
set yrange [0:1.02]
set xrange [0:*]
set grid
set key right bottom noenhanced box opaque
set style data steps

# one colour/dash per configuration kind, stable across the plots
col(c) = (c eq "native-1cpu") ? "#000000" : (c eq "native-all") ? "#777777" : \
         (c eq "goro-p1") ? "#d62728" : (c eq "goro-p2") ? "#ff7f0e" : \
         (c[1:4] eq "goro") ? "#8c564b" : \
         (c eq "go-p1") ? "#1f77b4" : (c eq "go-p2") ? "#17becf" : "#2ca02c"
dt(c) = (c[1:2] eq "go" && c[1:4] ne "goro") ? 2 : (c[1:6] eq "native") ? 3 : 1

do for [t in "svg pngcairo"] {
    if (t eq "svg") {
        set terminal svg size 900,560 dynamic font "sans,13" background "#ffffff"
        set output out.".svg"
    } else {
        set terminal pngcairo size 900,560 font "sans,11" background "#ffffff"
        set output out.".png"
    }
    plot for [c in confs] sprintf("%s/%s.%s.dat", datadir, group, c) using 1:2 \
        with steps lw 2 lc rgb col(c) dt dt(c) title c
    set output
}
