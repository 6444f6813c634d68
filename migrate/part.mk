# SPDX-License-Identifier: GPL-2.0-or-later
MIGRATE_OBJS += migrate/main.o
