from newsletter.cli import script

# Guarded: parse workers start by re-importing the main module, which must not rerun the CLI.
if __name__ == "__main__":
    script()
