// first-calls: runs a program and prints, in the order they are first entered, the functions of its own executable
// that run (x86-64 Linux). Used by order-file.sh to learn which code a running broker touches.
//
// How: before the program starts, a breakpoint (int3) goes at the entry of every function named on standard input
// as "ADDRESS NAME" lines (from nm; addresses relative to the executable's load address). The first time a thread
// enters one, the original byte is put back, the function is printed, and the thread goes on: each function traps
// once, so the program runs at nearly full speed. All threads are traced; signals are passed on; SIGINT and
// SIGTERM sent to first-calls are forwarded, so a graceful shutdown is recorded too.
// Processes the program forks would inherit the breakpoints untraced and die of the first one: the workload must not
// start any (order-file.sh's does not deploy functions).
//
// usage: nm --defined-only BINARY | awk '$2 ~ /[tTwW]/ {print $1, $3}' | first-calls OUT BINARY [ARGS...]
#define _GNU_SOURCE
#if !defined(__x86_64__)
#error "first-calls reads and rewinds x86-64 registers; record the order file on an x86-64 machine (it is the same list)"
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

struct function {
    uint64_t address;
    char *name;
    unsigned char original;
    int armed;
};

static struct function *functions;
static size_t count;
static pid_t child;

static int by_address(const void *a, const void *b) {
    uint64_t x = ((const struct function *)a)->address, y = ((const struct function *)b)->address;
    return x < y ? -1 : x > y;
}

static struct function *find(uint64_t address) {
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (functions[middle].address < address) low = middle + 1;
        else high = middle;
    }
    return low < count && functions[low].address == address ? &functions[low] : NULL;
}

static void forward(int signal) { kill(child, signal); }

// The load address of the executable: the lowest mapping of its path.
static uint64_t load_address(pid_t pid, const char *path) {
    char maps[64], line[4096], resolved[4096];
    if (!realpath(path, resolved)) return 0;
    snprintf(maps, sizeof maps, "/proc/%d/maps", pid);
    FILE *file = fopen(maps, "r");
    if (!file) return 0;
    uint64_t base = 0;
    while (fgets(line, sizeof line, file)) {
        char *name = strchr(line, '/');
        if (!name) continue;
        name[strcspn(name, "\n")] = 0;
        if (strcmp(name, resolved) == 0) {
            base = strtoull(line, NULL, 16);
            break;
        }
    }
    fclose(file);
    return base;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: first-calls OUT BINARY [ARGS...] (nm lines on stdin)\n");
        return 2;
    }
    size_t capacity = 1 << 16;
    functions = malloc(capacity * sizeof *functions);
    char *line = NULL;
    size_t length = 0;
    while (getline(&line, &length, stdin) > 0) {
        char name[8192];
        unsigned long long address;
        if (sscanf(line, "%llx %8191s", &address, name) != 2) continue;
        if (count == capacity) functions = realloc(functions, (capacity *= 2) * sizeof *functions);
        functions[count++] = (struct function){address, strdup(name), 0, 0};
    }
    qsort(functions, count, sizeof *functions, by_address);
    // Aliases (one address, several names): one breakpoint, the first name.
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || functions[unique - 1].address != functions[i].address) functions[unique++] = functions[i];
    count = unique;

    FILE *out = fopen(argv[1], "w");
    if (!out) { perror(argv[1]); return 1; }

    child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int status;
    waitpid(child, &status, 0);  // stopped at exec: mapped, nothing run
    if (!WIFSTOPPED(status)) { fprintf(stderr, "first-calls: %s did not start\n", argv[2]); return 1; }
    uint64_t base = load_address(child, argv[2]);
    char memory_path[64];
    snprintf(memory_path, sizeof memory_path, "/proc/%d/mem", child);
    int memory = open(memory_path, O_RDWR);
    if (memory < 0 || base == 0) { fprintf(stderr, "first-calls: cannot reach the program's memory\n"); return 1; }
    size_t armed = 0;
    for (size_t i = 0; i < count; i++) {
        off_t at = (off_t)(base + functions[i].address);
        unsigned char trap = 0xCC;
        if (pread(memory, &functions[i].original, 1, at) == 1 && pwrite(memory, &trap, 1, at) == 1) {
            functions[i].armed = 1;
            armed++;
        }
    }
    fprintf(stderr, "first-calls: %zu of %zu functions armed\n", armed, count);
    ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL);
    signal(SIGINT, forward);
    signal(SIGTERM, forward);
    ptrace(PTRACE_CONT, child, 0, 0);

    size_t seen = 0;
    for (;;) {
        pid_t thread = waitpid(-1, &status, __WALL);
        if (thread < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (thread == child) break;
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int stop = WSTOPSIG(status);
        int inject = 0;
        if (stop == SIGTRAP && (status >> 16) == 0) {
            struct user_regs_struct registers;
            ptrace(PTRACE_GETREGS, thread, 0, &registers);
            struct function *function = find(registers.rip - 1 - base);
            if (function && function->armed) {
                pwrite(memory, &function->original, 1, (off_t)(registers.rip - 1));
                function->armed = 0;
                fprintf(out, "%s\n", function->name);
                seen++;
                registers.rip -= 1;
                ptrace(PTRACE_SETREGS, thread, 0, &registers);
            } else if (function) {
                // Another thread trapped here before the byte was restored.
                registers.rip -= 1;
                ptrace(PTRACE_SETREGS, thread, 0, &registers);
            } else {
                inject = SIGTRAP;
            }
        } else if (stop == SIGTRAP || (stop == SIGSTOP && (status >> 16) != 0)) {
            // A ptrace event (a new thread), not a signal.
        } else if (stop == SIGSTOP) {
            // A new thread's first stop.
        } else {
            inject = stop;
        }
        ptrace(PTRACE_CONT, thread, 0, inject);
    }
    fclose(out);
    fprintf(stderr, "first-calls: %zu functions ran\n", seen);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
