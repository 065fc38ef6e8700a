{{ retention('week') }}
