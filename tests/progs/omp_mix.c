/* An OpenMP program (gcc -fopenmp, libgomp): parallel for with a
 * reduction, explicit barriers, a critical section and recursive tasks,
 * ROUNDS times.  libgomp waits with its own `syscall` instructions
 * (tests/omp.bats).  Usage: omp_mix ROUNDS */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static long fib(int n)
{
	if (n < 2)
		return n;
	long a, b;
#pragma omp task shared(a)
	a = fib(n - 1);
#pragma omp task shared(b)
	b = fib(n - 2);
#pragma omp taskwait
	return a + b;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	if (rounds < 1) {
		fprintf(stderr, "usage: omp_mix ROUNDS (>= 1)\n");
		return 2;
	}
	double sum = 0;
	long crit = 0, tasks = 0, team = 0;
	for (int r = 0; r < rounds; r++) {
#pragma omp parallel reduction(max : team)
		{
			team = omp_get_num_threads();
#pragma omp for reduction(+ : sum)
			for (int i = 0; i < 10000; i++)
				sum += (double)(i % 7) * 0.5;
#pragma omp barrier
#pragma omp critical
			crit++;
#pragma omp single
			tasks += fib(12);
		}
	}
	printf("team=%ld sum=%.1f critical=%ld tasks=%ld\n", team, sum, crit, tasks);
	return 0;
}
