#include "cli.h"
#include "husk/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct opt_spec opts[] = {{"format", 'f', true}, {"help", 'h', false}, {0}};
static const char *const help[] = {"table (default: ps output for the container's processes) or json (host pids)", ""};

static bool listed(const pid_t *v, size_t n, pid_t p)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == p)
            return true;
    return false;
}

static int run(const struct globals *g, const struct parsed_args *a, const struct opt_spec *s)
{
    struct husk_err err = {0};
    const char *f = cli_value(s, a, "format");
    if (f && strcmp(f, "json") && strcmp(f, "table")) {
        husk_err_set(&err, 0, "ps: unknown format \"%s\" (use table or json)", f);
        return cli_fail(&err);
    }
    size_t n = 0;
    pid_t *pids = husk_container_pids(g->root, a->pos[0], &n, &err);
    if (!pids)
        return cli_fail(&err);
    if (f && !strcmp(f, "json")) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", pids[i]);
        printf("]\n");
        free(pids);
        return 0;
    }
    /* Table: the host's ps, filtered to the container's pids (runc does the same). */
    int pfd[2];
    if (pipe(pfd) < 0) {
        free(pids);
        husk_err_set(&err, 0, "ps: pipe");
        return cli_fail(&err);
    }
    pid_t child = fork();
    if (child == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        char *argv[MAX_POS + 2] = {"ps"};
        int k = 1;
        if (a->n_pos == 1)
            argv[k++] = "-ef";
        for (int i = 1; i < a->n_pos; i++)
            argv[k++] = (char *)a->pos[i];
        argv[k] = NULL;
        execvp("ps", argv);
        _exit(127);
    }
    close(pfd[1]);
    FILE *in = fdopen(pfd[0], "r");
    char line[4096];
    int pid_col = -1, lineno = 0;
    while (in && fgets(line, sizeof line, in)) {
        if (lineno++ == 0) {
            char copy[4096];
            snprintf(copy, sizeof copy, "%s", line);
            int col = 0;
            for (char *t = strtok(copy, " \t\n"); t; t = strtok(NULL, " \t\n"), col++)
                if (!strcmp(t, "PID"))
                    pid_col = col;
            fputs(line, stdout);
            continue;
        }
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", line);
        int col = 0;
        for (char *t = strtok(copy, " \t\n"); t; t = strtok(NULL, " \t\n"), col++)
            if (col == pid_col && listed(pids, n, (pid_t)atoi(t)))
                fputs(line, stdout);
    }
    if (in)
        fclose(in);
    int status;
    waitpid(child, &status, 0);
    free(pids);
    if (pid_col < 0) {
        husk_err_set(&err, 0, "ps: no PID column in the output of ps");
        return cli_fail(&err);
    }
    return 0;
}

const struct command cmd_ps = {"ps", "[--format table|json] ID [ps options]", "list the processes of a container", opts,
                               help, 1, MAX_POS, 1, run};
