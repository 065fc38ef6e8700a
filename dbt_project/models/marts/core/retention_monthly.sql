{{ retention('month') }}
