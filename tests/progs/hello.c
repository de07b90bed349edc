/* The smallest subject: config.bats checks that goro refuses bad settings
 * before main runs (so "hello" must not appear) and accepts good ones. */
#include <stdio.h>

int main(void)
{
    puts("hello");
    return 0;
}
