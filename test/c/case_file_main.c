/* main of a host-C case driver: `driver CASES RESULTS` runs every case of the file CASES (see case_file.h). */
#include "case_file.h"

int main(int argc, char **argv)
{
    FILE *fi;
    FILE *fo;
    int r;
    if (argc != 3) return 2;
    fi = fopen(argv[1], "rb");
    fo = fopen(argv[2], "wb");
    if (!fi || !fo) return 2;
    do
    {
        r = run_case(fi, fo);
    } while (r == 1);
    fclose(fi);
    fclose(fo);
    return r;
}
