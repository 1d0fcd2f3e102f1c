file '/etc/greeting' do
  content 'hello from chef'
end
